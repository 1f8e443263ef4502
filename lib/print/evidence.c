/* The evidence pack's manifest: hashing, signing and checking (admit/print/evidence.h). */
#include "admit/print/evidence.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "admit/core/fileio.h"

#define MANIFEST_MAX (4u << 20)
#define PATH_MAX_LEN 4096
#define FILES_MAX    4096

static const char domain[] = "admit/evidence/v1";

enum admit_rc admit_evidence_sha256_file(const char *path, char hex[ADMIT_EVIDENCE_SHA_HEX])
{
    unsigned char chunk[65536], digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state state;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ADMIT_ERR_IO;
    crypto_hash_sha256_init(&state);
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        crypto_hash_sha256_update(&state, chunk, n);
    int failed = ferror(f);
    fclose(f);
    if (failed)
        return ADMIT_ERR_IO;
    crypto_hash_sha256_final(&state, digest);
    sodium_bin2hex(hex, ADMIT_EVIDENCE_SHA_HEX, digest, sizeof digest);
    return ADMIT_OK;
}

static void message_hash(const char *manifest, size_t len, unsigned char out[64])
{
    crypto_generichash_state state; /* the message is the domain and the manifest, hashed */
    crypto_generichash_init(&state, NULL, 0, 64);
    crypto_generichash_update(&state, (const unsigned char *)domain, sizeof domain);
    crypto_generichash_update(&state, (const unsigned char *)manifest, len);
    crypto_generichash_final(&state, out, 64);
}

enum admit_rc admit_evidence_sign(const struct admit_signing_key *key, const char *manifest,
                                  size_t len, char sig[ADMIT_EVIDENCE_SIG_HEX])
{
    unsigned char hash[64], signature[crypto_sign_BYTES];
    message_hash(manifest, len, hash);
    if (crypto_sign_detached(signature, NULL, hash, sizeof hash, key->sk) != 0)
        return ADMIT_ERR_CRYPTO;
    sodium_bin2hex(sig, ADMIT_EVIDENCE_SIG_HEX - 1, signature, sizeof signature);
    sig[ADMIT_EVIDENCE_SIG_HEX - 2] = '\n';
    sig[ADMIT_EVIDENCE_SIG_HEX - 1] = '\0';
    return ADMIT_OK;
}

static int signed_by_ring(const struct admit_keyring *ring, const char *manifest, size_t len,
                          const char *sig_text, size_t sig_len)
{
    unsigned char hash[64], signature[crypto_sign_BYTES];
    size_t bin_len = 0;
    if (sig_len != 2 * crypto_sign_BYTES + 1 || sig_text[sig_len - 1] != '\n' ||
        sodium_hex2bin(signature, sizeof signature, sig_text, sig_len - 1, NULL, &bin_len, NULL) !=
            0 ||
        bin_len != sizeof signature)
        return 0;
    message_hash(manifest, len, hash);
    for (size_t i = 0; i < ring->count; i++)
        if (crypto_sign_verify_detached(signature, hash, sizeof hash, ring->keys[i].pk) == 0)
            return 1;
    return 0;
}

/* Every regular file under dir/sub (relative paths into files), except the manifest and its
 * signature at the top. */
static void list_files(const char *dir, const char *sub, char **files, size_t *count)
{
    char path[2 * PATH_MAX_LEN + 2];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char rel[PATH_MAX_LEN];
        struct stat st;
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
            continue;
        snprintf(rel, sizeof rel, "%s%s%s", sub, sub[0] ? "/" : "", e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) /* lstat: a link to a folder is a file here, never a loop */
            list_files(dir, rel, files, count);
        else if (*count < FILES_MAX && strcmp(rel, ADMIT_EVIDENCE_MANIFEST) != 0 &&
                 strcmp(rel, ADMIT_EVIDENCE_SIGNATURE) != 0)
            files[(*count)++] = strdup(rel);
    }
    if (d != NULL)
        closedir(d);
}

/* Checks the file lines of the manifest (after its three header lines); marks in seen the
 * files of files[] it names. Returns the number of problems. */
static size_t check_lines(const char *dir, char *manifest, char **files, size_t count, int *seen,
                          void (*report)(void *, enum admit_evidence_problem, const char *),
                          void *ctx)
{
    size_t problems = 0;
    char *save = NULL;
    int line = 0;
    for (char *l = strtok_r(manifest, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        char path[2 * PATH_MAX_LEN + 2], hex[ADMIT_EVIDENCE_SHA_HEX];
        if (++line <= 3)
            continue;
        if (strlen(l) < 67 || l[64] != ' ' || l[65] != ' ' || l[66] == '/' ||
            strstr(l + 66, "..") != NULL) { /* nothing outside the folder */
            report(ctx, ADMIT_EVIDENCE_MALFORMED, NULL);
            problems++;
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, l + 66);
        for (size_t i = 0; i < count; i++)
            if (strcmp(files[i], l + 66) == 0)
                seen[i] = 1;
        if (admit_evidence_sha256_file(path, hex) != ADMIT_OK) {
            report(ctx, ADMIT_EVIDENCE_MISSING, l + 66);
            problems++;
        } else if (memcmp(hex, l, 64) != 0) {
            report(ctx, ADMIT_EVIDENCE_CHANGED, l + 66);
            problems++;
        }
    }
    return problems;
}

size_t admit_evidence_check(const char *dir, const struct admit_keyring *ring,
                            void (*report)(void *ctx, enum admit_evidence_problem problem,
                                           const char *path),
                            void *ctx)
{
    struct admit_buf manifest, sig;
    char path[2 * PATH_MAX_LEN + 2];
    char **files = calloc(FILES_MAX, sizeof *files);
    int *seen = calloc(FILES_MAX, sizeof *seen);
    size_t count = 0, problems = 0;
    admit_buf_init(&manifest, MANIFEST_MAX);
    admit_buf_init(&sig, 1024);
    snprintf(path, sizeof path, "%s/%s", dir, ADMIT_EVIDENCE_MANIFEST);
    int read_ok = admit_file_read(path, &manifest) == ADMIT_OK;
    snprintf(path, sizeof path, "%s/%s", dir, ADMIT_EVIDENCE_SIGNATURE);
    read_ok = read_ok && admit_file_read(path, &sig) == ADMIT_OK;
    if (!read_ok || files == NULL || seen == NULL ||
        strncmp(admit_buf_cstr(&manifest), "admit evidence v1\n", 18) != 0) {
        report(ctx, ADMIT_EVIDENCE_MALFORMED, NULL);
        problems++;
        goto done;
    }
    if (!signed_by_ring(ring, manifest.data, manifest.len, sig.data, sig.len)) {
        report(ctx, ADMIT_EVIDENCE_BAD_SIGNATURE, NULL);
        problems++;
    }
    list_files(dir, "", files, &count);
    problems +=
        check_lines(dir, (char *)admit_buf_cstr(&manifest), files, count, seen, report, ctx);
    for (size_t i = 0; i < count; i++)
        if (!seen[i]) {
            report(ctx, ADMIT_EVIDENCE_EXTRA, files[i]);
            problems++;
        }
done:
    for (size_t i = 0; files != NULL && i < count; i++)
        free(files[i]);
    free(files);
    free(seen);
    admit_buf_free(&manifest);
    admit_buf_free(&sig);
    return problems;
}
