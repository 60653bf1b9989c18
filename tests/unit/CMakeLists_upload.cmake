list(APPEND GW_TEST_SOURCES integration/upload_test.cc)
