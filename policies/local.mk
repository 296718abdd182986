policiesdir = $(pkgdatadir)/policies
dist_policies_DATA = policies/base.policy policies/exec.policy \
	policies/relay.policy policies/sql.policy policies/http.policy \
	policies/deny.policy
