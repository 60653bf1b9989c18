# Tests of the tjk-1 adapter, relative to tests/. Included by tests/CMakeLists.txt
# into `gateway_tests`.
list(APPEND GW_TEST_SOURCES unit/adapters/tjk1_test.cc)
