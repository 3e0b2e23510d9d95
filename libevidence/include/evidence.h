/**
 * @file evidence.h
 * @brief Umbrella header: includes every public libevidence header.
 */
#ifndef EVIDENCE_H
#define EVIDENCE_H

#include "evidence/common.h"
#include "evidence/bundle.h"
#include "evidence/media.h"
#include "evidence/profile.h"
#include "evidence/sign.h"
#include "evidence/transcode.h"
#include "evidence/schedule.h"

#endif
