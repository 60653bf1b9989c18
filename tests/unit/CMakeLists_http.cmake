# HTTP server, router and test-client tests; paths are relative to tests/.
# The executable also needs tests/support/http_client.cc.
set(GW_HTTP_TEST_SOURCES
  unit/http/router_test.cc
  unit/http/server_test.cc
  unit/http/content_coding_test.cc)
