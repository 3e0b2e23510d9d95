/*
 * bundle (extract): a verification that writes every file it reads into a
 * staging folder, renamed to the destination only when the bundle verified.
 */

#include "bundle/bundle_int.h"

int ev_bundle_extract(ev_report **out, ev_bundle *b, const char *dest)
{
    if (!out || !dest)
        return EV_EINVAL;
    return ev_bundle__verify_run(out, b, 0, dest);
}
