# The web console (console/, gateway/http/console.cc) and the operator routes it reads
# (/v1/grants, /v1/audit/verify). The browser test is scripts/console-test.sh.
list(APPEND GW_TEST_SOURCES unit/http/console_test.cc)
