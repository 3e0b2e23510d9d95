/**
 * @file evidence/profile.h
 * @brief (module being written; see docs/)
 */
#ifndef EVIDENCE_PROFILE_H
#define EVIDENCE_PROFILE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
