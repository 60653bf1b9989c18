# Reliability (docs/reliability.md): crash consistency under SIGKILL, hostile HTTP,
# a bounded soak (with the upload/audit deadlock regression), storage faults; plus
# their support code and the independent RFC 9421 signer the upload tests share.
# Paths are relative to tests/.
list(APPEND GW_TEST_SOURCES
  support/signer.cc
  support/reliability.cc
  integration/crash_test.cc
  integration/hostile_http_test.cc
  integration/soak_test.cc
  integration/storage_faults_test.cc)
# The crash, soak and storage tests generate large registers with bench/gwgen,
# which is not part of `all`: build it with the tests. Deferred to the end of this
# directory, where gateway_tests exists.
cmake_language(DEFER CALL add_dependencies gateway_tests gwgen)
