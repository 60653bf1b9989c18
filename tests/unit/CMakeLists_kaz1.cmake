# Tests of the common text/CSV/charset code and of the kaz-1 adapter, relative
# to tests/. Included by tests/CMakeLists.txt into `gateway_tests`.
set(GW_KAZ1_TEST_SOURCES
  unit/common/text_test.cc
  unit/common/csv_reader_test.cc
  unit/common/transcode_test.cc
  unit/common/date_test.cc
  unit/adapters/kaz1_test.cc)
