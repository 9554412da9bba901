/* module.h — the type specs each concept file contributes to the module. */
#ifndef HP_MODULE_H
#define HP_MODULE_H

#include "compat.h"

extern PyType_Spec hp_profiler_spec;   /* funcprof.c */
extern PyType_Spec hp_floor_spec;      /* floor.c */

#endif /* HP_MODULE_H */
