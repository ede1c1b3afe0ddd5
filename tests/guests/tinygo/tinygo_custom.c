// build-no-table
// tinygo.c with other names, run with: -m my-wrapper -c my_callback
#define WRAPPER_MODULE "my-wrapper"
#define CALLBACK_EXPORT "my_callback"
#include "tinygo.c"
