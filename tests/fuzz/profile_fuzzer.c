/*
 * Fuzz target for the profile loader: any bytes go through JSON parsing and
 * every validation rule; a loaded profile is summarised and freed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ev_errbuf err;
    ev_profile *p = NULL;
    if (ev_profile__load_buffer(&p, data, size, "fuzz.json", &err) == EV_OK) {
        json_t *s = ev_profile__summary(p);
        json_decref(s);
        ev_profile__free(p);
    }
    return 0;
}
