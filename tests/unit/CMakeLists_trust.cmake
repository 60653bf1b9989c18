# Trust: signatures, digests, keys and the audit chain.
list(APPEND GW_TEST_SOURCES
  unit/http/message_signatures_test.cc
  unit/storage/audit_test.cc)
list(APPEND GW_TEST_SOURCES unit/adapters/shared_v1_test.cc)
list(APPEND GW_TEST_SOURCES integration/roles_test.cc integration/answer_cache_test.cc
  integration/content_coding_test.cc)
