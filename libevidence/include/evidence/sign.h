/**
 * @file evidence/sign.h
 * @brief (module being written; see docs/)
 */
#ifndef EVIDENCE_SIGN_H
#define EVIDENCE_SIGN_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
