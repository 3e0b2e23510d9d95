/**
 * @file evidence/media.h
 * @brief (module being written; see docs/)
 */
#ifndef EVIDENCE_MEDIA_H
#define EVIDENCE_MEDIA_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
