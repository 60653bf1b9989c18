# Tests of the kgz-1 adapter, relative to tests/. Included by tests/CMakeLists.txt
# into `gateway_tests`.
list(APPEND GW_TEST_SOURCES unit/adapters/kgz1_test.cc)
