#include "admit/core/rc.h"

const char *admit_strerror(enum admit_rc rc)
{
    switch (rc) {
    case ADMIT_OK:
        return "success";
    case ADMIT_ERR_INVALID:
        return "invalid input";
    case ADMIT_ERR_TOO_LARGE:
        return "size limit exceeded";
    case ADMIT_ERR_IO:
        return "input/output error";
    case ADMIT_ERR_PERMISSION:
        return "secret file is accessible by other users";
    case ADMIT_ERR_EXISTS:
        return "already exists";
    case ADMIT_ERR_NOT_FOUND:
        return "not found";
    case ADMIT_ERR_CRYPTO:
        return "cryptographic operation failed";
    case ADMIT_ERR_QR:
        return "QR code rendering failed";
    case ADMIT_ERR_DB:
        return "database error";
    case ADMIT_ERR_DB_UNAVAILABLE:
        return "database unavailable";
    case ADMIT_ERR_CONFLICT:
        return "conflict";
    case ADMIT_ERR_STATE:
        return "not allowed in the current state";
    }
    return "unknown error";
}
