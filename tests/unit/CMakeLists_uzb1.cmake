# Tests of the uzb-1 adapter (Uzbekistan, JSON), relative to tests/. Included by
# tests/CMakeLists.txt into `gateway_tests`.
list(APPEND GW_TEST_SOURCES unit/adapters/uzb1_test.cc)
