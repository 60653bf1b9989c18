# Interfaces for consumers and operators: output formats, metrics, OpenAPI, UNHCR endpoints.
list(APPEND GW_TEST_SOURCES
  unit/query/formats_test.cc
  unit/http/metrics_test.cc)
list(APPEND GW_TEST_SOURCES integration/unhcr_test.cc)
list(APPEND GW_TEST_SOURCES unit/http/openapi_test.cc integration/ops_test.cc)
