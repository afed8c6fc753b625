#ifndef QBC_CSODIUM_SHIM_H
#define QBC_CSODIUM_SHIM_H
#include <sodium.h>
#endif
