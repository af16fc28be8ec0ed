/*
 * rowwise_dtypes.h - includes the rows header RW_FAMILY (a family's row
 * functions and its rowwise.h instantiations, written in RW_T) once for float
 * and once for double; RW_TYPED(name) names a function of the current dtype.
 */
#define RW_TYPED(name) CLOSS_CAT3(name, _, RW_SFX)

#define RW_T float
#define RW_SFX f32
#include RW_FAMILY
#undef RW_T
#undef RW_SFX

#define RW_T double
#define RW_SFX f64
#include RW_FAMILY
#undef RW_T
#undef RW_SFX

#undef RW_TYPED
#undef RW_FAMILY
