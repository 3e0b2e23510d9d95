/**
 * @file evidence/transcode.h
 * @brief (module being written; see docs/)
 */
#ifndef EVIDENCE_TRANSCODE_H
#define EVIDENCE_TRANSCODE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
