/* expect: 2 */
static void f(void) { emit(conn, "operations", "operation_state", o); }
