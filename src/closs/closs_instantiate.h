/*
 * closs_instantiate.h - includes the family template CLOSS_TEMPLATE once for
 * float and once for double (the convention: closs_internal.h, CLOSS_FN).
 */
#ifndef CLOSS_TEMPLATE
#error "define CLOSS_TEMPLATE as the family's template header before including closs_instantiate.h"
#endif

#define CLOSS_T float
#define CLOSS_SFX f32
#define CLOSS_IS_F64 0
#include CLOSS_TEMPLATE
#undef CLOSS_T
#undef CLOSS_SFX
#undef CLOSS_IS_F64

#define CLOSS_T double
#define CLOSS_SFX f64
#define CLOSS_IS_F64 1
#include CLOSS_TEMPLATE
#undef CLOSS_T
#undef CLOSS_SFX
#undef CLOSS_IS_F64

#undef CLOSS_TEMPLATE
