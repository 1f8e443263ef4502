#include "admit/door/scan_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "admit/checkin/checkin.h"
#include "admit/core/fileio.h"
#include "admit/core/mem.h"

#define JOURNAL_FILE "journal.jsonl"
#define LOCK_FILE    "lock"
#define TOKEN_FILE   "token"
#define PATH_MAX_LEN 4096

struct admit_scan_state {
    char *dir;
    int lock_fd;
    int journal_fd;
};

/* Parsing the journal. */

static bool optional_string(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return v == NULL || json_is_string(v);
}

static bool nonce_ok(const json_t *obj)
{
    const char *nonce = json_string_value(json_object_get(obj, "nonce"));
    size_t n = nonce != NULL ? strlen(nonce) : 0;
    if (n < ADMIT_CHECKIN_NONCE_MIN || n > ADMIT_CHECKIN_NONCE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = nonce[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

bool admit_scan_answer_valid(const json_t *answer)
{
    static const char *const strings[] = {"reason",       "name", "organisation", "first_gate",
                                          "entered_gate", "list", "door"};
    static const char *const times[] = {"first_at", "entered_at"};
    if (!json_is_object(answer) ||
        admit_verdict_parse(json_string_value(json_object_get(answer, "verdict"))) < 0)
        return false;
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (!optional_string(answer, strings[i]))
            return false;
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        const json_t *at = json_object_get(answer, times[i]);
        if (at != NULL && !admit_checkin_time_valid(json_string_value(at)))
            return false;
    }
    const json_t *id = json_object_get(answer, "registration_id");
    if (id != NULL && (!json_is_integer(id) || json_integer_value(id) <= 0 ||
                       json_integer_value(id) > 0xffffffffLL))
        return false;
    const json_t *flagged = json_object_get(answer, "flagged");
    const json_t *offline = json_object_get(answer, "offline");
    return (flagged == NULL || json_is_boolean(flagged)) &&
           (offline == NULL || json_is_boolean(offline));
}

bool admit_scan_error_answer_valid(const json_t *answer)
{
    const json_t *error = json_object_get(answer, "error");
    return json_is_object(answer) && json_object_get(answer, "verdict") == NULL &&
           json_is_object(error) && json_is_string(json_object_get(error, "code")) &&
           optional_string(error, "message") && optional_string(answer, "nonce");
}

static bool scan_record_ok(const json_t *r)
{
    const char *payload = json_string_value(json_object_get(r, "payload"));
    const char *list = json_string_value(json_object_get(r, "list"));
    const char *direction = json_string_value(json_object_get(r, "direction"));
    const json_t *local = json_object_get(r, "local");
    return nonce_ok(r) && payload != NULL && strlen(payload) <= ADMIT_CHECKIN_PAYLOAD_MAX &&
           list != NULL && list[0] != '\0' && direction != NULL &&
           (strcmp(direction, "entry") == 0 || strcmp(direction, "exit") == 0) &&
           admit_checkin_time_valid(json_string_value(json_object_get(r, "scanned_at"))) &&
           optional_string(r, "gate") && (local == NULL || admit_scan_answer_valid(local));
}

/* The kind of a well-formed record, or -1. */
static int record_kind(const json_t *r)
{
    const char *t = json_string_value(json_object_get(r, "t"));
    if (!json_is_object(r) || t == NULL)
        return -1;
    if (strcmp(t, "scan") == 0)
        return scan_record_ok(r) ? ADMIT_JOURNAL_SCAN : -1;
    if (strcmp(t, "local") == 0 || strcmp(t, "server") == 0) {
        const json_t *answer = json_object_get(r, "answer");
        if (!nonce_ok(r) || !(admit_scan_answer_valid(answer) ||
                              (t[0] == 's' && admit_scan_error_answer_valid(answer))))
            return -1;
        return t[0] == 'l' ? ADMIT_JOURNAL_LOCAL : ADMIT_JOURNAL_SERVER;
    }
    if (strcmp(t, "sync") == 0)
        return optional_string(r, "cursor") ? ADMIT_JOURNAL_SYNC : -1;
    return -1;
}

void admit_scan_journal_parse(const char *text, size_t len, admit_journal_fn fn, void *ctx,
                              size_t *bad, size_t *torn)
{
    size_t start = 0;
    *bad = 0;
    *torn = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        if (nl == NULL) {
            *torn = len - start;
            return;
        }
        size_t n = (size_t)(nl - (text + start));
        if (n > 0) {
            json_error_t jerr;
            json_t *r = json_loadb(text + start, n, JSON_REJECT_DUPLICATES, &jerr);
            int kind = record_kind(r);
            if (kind < 0)
                (*bad)++;
            else
                fn(ctx, (enum admit_journal_kind)kind, r);
            json_decref(r);
        }
        start += n + 1;
    }
}

/* Paths and folders. */

enum admit_rc admit_scan_state_root(const char *override, struct admit_buf *out)
{
    if (override != NULL && override[0] != '\0')
        return admit_buf_puts(out, override);
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg != NULL && xdg[0] == '/') /* the spec: a relative path is invalid, ignore it */
        return admit_buf_printf(out, "%s/admit", xdg);
    const char *home = getenv("HOME");
    if (home != NULL && home[0] == '/')
        return admit_buf_printf(out, "%s/.local/state/admit", home);
    return ADMIT_ERR_NOT_FOUND;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum admit_rc admit_scan_state_find(const char *root, const char *prefix, char ***names)
{
    size_t n = 0, cap = 8;
    char **list = admit_xcalloc(cap, sizeof *list);
    DIR *d = opendir(root);
    *names = NULL;
    if (d == NULL) {
        if (errno == ENOENT) {
            *names = list;
            return ADMIT_OK;
        }
        free(list);
        return ADMIT_ERR_IO;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (e == NULL)
            break;
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (n + 1 >= cap) {
            cap *= 2;
            list = admit_xrealloc(list, cap * sizeof *list);
        }
        list[n++] = admit_xstrdup(e->d_name);
        list[n] = NULL;
    }
    int saved = errno;
    closedir(d);
    if (saved != 0) {
        admit_scan_state_names_free(list);
        errno = saved;
        return ADMIT_ERR_IO;
    }
    qsort(list, n, sizeof *list, by_name);
    *names = list;
    return ADMIT_OK;
}

void admit_scan_state_names_free(char **names)
{
    for (size_t i = 0; names != NULL && names[i] != NULL; i++)
        free(names[i]);
    free(names);
}

/* mkdir -p with mode 0700 for what it creates. */
static enum admit_rc make_dirs(const char *path)
{
    char buf[PATH_MAX_LEN];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return ADMIT_ERR_IO;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return ADMIT_ERR_IO;
        buf[i] = saved;
    }
    return ADMIT_OK;
}

static enum admit_rc join(char *out, size_t outlen, const char *dir, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= outlen) {
        errno = ENAMETOOLONG;
        return ADMIT_ERR_IO;
    }
    return ADMIT_OK;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

enum admit_rc admit_scan_state_peek_token(const char *dir, char out[ADMIT_TOKEN_SIZE])
{
    char path[PATH_MAX_LEN];
    struct admit_buf text;
    struct stat sb;
    out[0] = '\0';
    enum admit_rc rc = join(path, sizeof path, dir, TOKEN_FILE);
    if (rc != ADMIT_OK)
        return rc;
    if (stat(path, &sb) != 0)
        return errno == ENOENT ? ADMIT_ERR_NOT_FOUND : ADMIT_ERR_IO;
    if (sb.st_mode & 077)
        return ADMIT_ERR_PERMISSION;
    admit_buf_init(&text, 256);
    rc = admit_file_read(path, &text);
    if (rc == ADMIT_OK) {
        size_t n = text.len;
        while (n > 0 && (text.data[n - 1] == '\n' || text.data[n - 1] == '\r'))
            n--;
        admit_buf_truncate(&text, n);
        if (n == ADMIT_TOKEN_LEN && admit_token_valid(admit_buf_cstr(&text)))
            memcpy(out, text.data, ADMIT_TOKEN_SIZE);
        else
            rc = ADMIT_ERR_INVALID;
    } else if (rc == ADMIT_ERR_TOO_LARGE) {
        rc = ADMIT_ERR_INVALID;
    }
    if (text.data != NULL)
        sodium_memzero(text.data, text.cap);
    admit_buf_free(&text);
    return rc;
}

/* Cuts a last line that lacks its newline (a crash during its write). */
static enum admit_rc repair_journal(int fd)
{
    struct stat sb;
    char c;
    if (fstat(fd, &sb) != 0)
        return ADMIT_ERR_IO;
    off_t end = sb.st_size;
    if (end == 0 || (pread(fd, &c, 1, end - 1) == 1 && c == '\n'))
        return ADMIT_OK;
    char chunk[4096];
    off_t keep = 0;
    for (off_t pos = end; pos > 0 && keep == 0;) {
        off_t from = pos > (off_t)sizeof chunk ? pos - (off_t)sizeof chunk : 0;
        ssize_t r = pread(fd, chunk, (size_t)(pos - from), from);
        if (r != pos - from)
            return ADMIT_ERR_IO;
        for (ssize_t i = r - 1; i >= 0; i--) {
            if (chunk[i] == '\n') {
                keep = from + i + 1;
                break;
            }
        }
        pos = from;
    }
    if (ftruncate(fd, keep) != 0 || fsync(fd) != 0)
        return ADMIT_ERR_IO;
    return ADMIT_OK;
}

enum admit_rc admit_scan_state_open(const char *dir, struct admit_scan_state **out)
{
    char path[PATH_MAX_LEN];
    enum admit_rc rc;
    *out = NULL;
    struct admit_scan_state *st = admit_xcalloc(1, sizeof *st);
    st->lock_fd = -1;
    st->journal_fd = -1;
    st->dir = admit_xstrdup(dir);
    rc = make_dirs(dir);
    if (rc != ADMIT_OK)
        goto fail;
    rc = join(path, sizeof path, dir, LOCK_FILE);
    if (rc != ADMIT_OK)
        goto fail;
    rc = ADMIT_ERR_IO;
    st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (st->lock_fd < 0)
        goto fail;
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? ADMIT_ERR_STATE : ADMIT_ERR_IO;
        goto fail;
    }
    rc = join(path, sizeof path, dir, JOURNAL_FILE);
    if (rc != ADMIT_OK)
        goto fail;
    rc = ADMIT_ERR_IO;
    bool existed = access(path, F_OK) == 0;
    st->journal_fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (st->journal_fd < 0)
        goto fail;
    if (!existed)
        fsync_dir(dir); /* the new file's name must survive a crash too */
    rc = repair_journal(st->journal_fd);
    if (rc != ADMIT_OK)
        goto fail;
    *out = st;
    return ADMIT_OK;
fail : {
    int saved = errno;
    admit_scan_state_close(st);
    errno = saved;
}
    return rc;
}

void admit_scan_state_close(struct admit_scan_state *st)
{
    if (st == NULL)
        return;
    if (st->journal_fd >= 0)
        close(st->journal_fd);
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    free(st->dir);
    free(st);
}

const char *admit_scan_state_dir(const struct admit_scan_state *st)
{
    return st->dir;
}

enum admit_rc admit_scan_state_token_write(struct admit_scan_state *st, const char *token)
{
    char path[PATH_MAX_LEN];
    char line[ADMIT_TOKEN_SIZE + 1];
    if (!admit_token_valid(token))
        return ADMIT_ERR_INVALID;
    enum admit_rc rc = join(path, sizeof path, st->dir, TOKEN_FILE);
    if (rc != ADMIT_OK)
        return rc;
    memcpy(line, token, ADMIT_TOKEN_LEN);
    line[ADMIT_TOKEN_LEN] = '\n';
    rc = admit_file_write_atomic(path, line, ADMIT_TOKEN_LEN + 1, 0600);
    sodium_memzero(line, sizeof line);
    return rc;
}

enum admit_rc admit_scan_state_token_read(struct admit_scan_state *st, char out[ADMIT_TOKEN_SIZE])
{
    return admit_scan_state_peek_token(st->dir, out);
}

enum admit_rc admit_scan_state_json_write(struct admit_scan_state *st, const char *name,
                                          const json_t *value)
{
    char path[PATH_MAX_LEN];
    enum admit_rc rc = join(path, sizeof path, st->dir, name);
    if (rc != ADMIT_OK)
        return rc;
    char *text = json_dumps(value, JSON_COMPACT);
    if (text == NULL)
        abort();
    rc = admit_file_write_atomic(path, text, strlen(text), 0600);
    free(text);
    return rc;
}

enum admit_rc admit_scan_state_json_read(struct admit_scan_state *st, const char *name,
                                         json_t **out)
{
    char path[PATH_MAX_LEN];
    struct admit_buf text;
    json_error_t jerr;
    *out = NULL;
    enum admit_rc rc = join(path, sizeof path, st->dir, name);
    if (rc != ADMIT_OK)
        return rc;
    admit_buf_init(&text, ADMIT_SCAN_FILE_MAX);
    rc = admit_file_read(path, &text);
    if (rc == ADMIT_ERR_IO && errno == ENOENT)
        rc = ADMIT_ERR_NOT_FOUND;
    if (rc == ADMIT_OK) {
        *out = json_loadb(text.data != NULL ? text.data : "", text.len, 0, &jerr);
        if (*out == NULL)
            rc = ADMIT_ERR_INVALID;
    }
    admit_buf_free(&text);
    return rc;
}

enum admit_rc admit_scan_state_append(struct admit_scan_state *st, json_t *const *records, size_t n)
{
    struct admit_buf lines;
    enum admit_rc rc = ADMIT_OK;
    admit_buf_init(&lines, ADMIT_SCAN_FILE_MAX);
    for (size_t i = 0; i < n && rc == ADMIT_OK; i++) {
        char *text = json_dumps(records[i], JSON_COMPACT);
        if (text == NULL)
            abort();
        rc = admit_buf_puts(&lines, text);
        if (rc == ADMIT_OK)
            rc = admit_buf_putc(&lines, '\n');
        free(text);
    }
    size_t off = 0;
    while (rc == ADMIT_OK && off < lines.len) {
        ssize_t w = write(st->journal_fd, lines.data + off, lines.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = ADMIT_ERR_IO;
        else
            off += (size_t)w;
    }
    if (rc == ADMIT_OK && fsync(st->journal_fd) != 0)
        rc = ADMIT_ERR_IO;
    admit_buf_free(&lines);
    return rc;
}

enum admit_rc admit_scan_state_journal_read(struct admit_scan_state *st, admit_journal_fn fn,
                                            void *ctx, size_t *bad)
{
    char path[PATH_MAX_LEN];
    struct admit_buf text;
    size_t torn = 0;
    *bad = 0;
    enum admit_rc rc = join(path, sizeof path, st->dir, JOURNAL_FILE);
    if (rc != ADMIT_OK)
        return rc;
    admit_buf_init(&text, ADMIT_SCAN_FILE_MAX);
    rc = admit_file_read(path, &text);
    if (rc == ADMIT_OK)
        admit_scan_journal_parse(text.data != NULL ? text.data : "", text.len, fn, ctx, bad, &torn);
    admit_buf_free(&text);
    return rc;
}
