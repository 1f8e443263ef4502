/* Result codes shared by every fallible function of libadmit. */
#ifndef ADMIT_RC_H
#define ADMIT_RC_H

#define ADMIT_MUST_CHECK __attribute__((warn_unused_result))

enum admit_rc {
    ADMIT_OK = 0,
    ADMIT_ERR_INVALID,        /* bad argument or malformed input */
    ADMIT_ERR_TOO_LARGE,      /* a size limit was hit */
    ADMIT_ERR_IO,             /* reading or writing a file failed (errno kept) */
    ADMIT_ERR_PERMISSION,     /* a secret file is readable by others */
    ADMIT_ERR_EXISTS,         /* refusing to overwrite */
    ADMIT_ERR_NOT_FOUND,      /* file, key, row or record missing */
    ADMIT_ERR_CRYPTO,         /* libsodium refused (initialisation, signing) */
    ADMIT_ERR_QR,             /* libqrencode or libpng failed */
    ADMIT_ERR_DB,             /* PostgreSQL error; detail on the connection handle */
    ADMIT_ERR_DB_UNAVAILABLE, /* PostgreSQL cannot be reached right now */
    ADMIT_ERR_CONFLICT,       /* a unique rule of the data was hit */
    ADMIT_ERR_STATE,          /* the record is in a state that forbids the action */
};

/* A short English description of rc; never NULL, static storage. */
const char *admit_strerror(enum admit_rc rc);

#endif
