// The one place C++ code includes PostgreSQL's C headers. PostgreSQL headers are C: they
// must be wrapped in extern "C", and a few of them trip C++ warnings we silence here only.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/elog.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
}

// PostgreSQL 15.0 shipped InitMaterializedSRF under the name SetSingleFuncCall (renamed in 15.1).
#if PG_VERSION_NUM < 150001
#define InitMaterializedSRF(fcinfo, flags) SetSingleFuncCall(fcinfo, flags)
#endif
