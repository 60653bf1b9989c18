# Reliability (docs/reliability.md): crash consistency under SIGKILL, hostile HTTP,
# a bounded soak, storage faults; plus their support code and the independent
# RFC 9421 signer the upload tests share. Paths are relative to tests/.
list(APPEND GW_TEST_SOURCES
  support/signer.cc
  support/reliability.cc
  integration/storage_faults_test.cc)
# Not yet in the suite: hostile_http_test.cc (its check that every never-reading
# client is cut failed on a clean clone under load), crash_test.cc (SIGKILL during ingests, uploads and dp
# releases) and soak_test.cc (mixed load, then SIGTERM with uploads in flight)
# still fail on the current tree (a replayed-nonce expectation after a kill; too
# few uploads completing under load); see the issue's note.
# The crash, soak and storage tests generate large registers with bench/gwgen,
# which is not part of `all`: build it with the tests. Deferred to the end of this
# directory, where gateway_tests exists.
cmake_language(DEFER CALL add_dependencies gateway_tests gwgen)
