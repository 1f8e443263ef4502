/* Static assets: the files of templates/static/ (CSS, SVG, PNG, ICO, ...), read into memory at
 * start and served at /static/NAME with an ETag and a one-hour public cache lifetime. */
#ifndef ADMITD_STATIC_H
#define ADMITD_STATIC_H

#include <stddef.h>

#include "admit/core/error.h"
#include "admit/core/rc.h"

/* Largest asset, in bytes. */
#define STATIC_MAX_FILE (4u << 20)

struct static_assets;

/* Loads every regular file of dir whose name does not start with "."; a dir that does not
 * exist is an empty set. Refused (ADMIT_ERR_INVALID, err says which file and why): a file whose
 * extension has no known content type, a subfolder, a file over STATIC_MAX_FILE
 * (ADMIT_ERR_TOO_LARGE); ADMIT_ERR_IO when something cannot be read. On ADMIT_OK *out is a
 * set to free with static_assets_free (after the daemon has stopped); *count the number of
 * files. */
enum admit_rc static_assets_load(const char *dir, struct static_assets **out, size_t *count,
                                 struct admit_error *err) ADMIT_MUST_CHECK;
void static_assets_free(struct static_assets *assets);

#endif
