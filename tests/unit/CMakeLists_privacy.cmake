# Disclosure control: the dp sampler, noise derivation, sdc suppression, the budget ledger.
list(APPEND GW_TEST_SOURCES
  unit/privacy/sdc_test.cc
  unit/privacy/dp_sampler_test.cc
  unit/privacy/noise_test.cc
  unit/storage/budget_test.cc
  unit/query/disclosure_query_test.cc)
list(APPEND GW_TEST_SOURCES integration/budget_http_test.cc)
list(APPEND GW_TEST_SOURCES unit/storage/person_sorter_test.cc)
