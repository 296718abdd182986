# common/: code every process links.
# libnfcore: util, logging, values, frames, msgpack (msg.c owns msgpack.h).
noinst_LIBRARIES += libnfcore.a libnfconf.a
libnfcore_a_SOURCES = common/util.c common/util.h common/log.c common/log.h \
	common/val.c common/val.h common/frame.c common/msg.c common/proto.h \
	common/fault.c common/fault.h
libnfcore_a_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS)

# libnfconf: TOML, config, step-type registry, policies (policy.c owns
# seccomp.h), cron and time zones.
libnfconf_a_SOURCES = common/toml.c common/toml.h common/config.c \
	common/config.h common/steptype.c common/steptype.h \
	common/policy.c common/policy.h supervisor/cron.c supervisor/cron.h \
	supervisor/tz.c common/template.c common/template.h common/expr.c \
	common/expr.h
libnfconf_a_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS)

NF_CORE_LIBS = libnfcore.a $(MSGPACK_LIBS)
NF_CONF_LIBS = libnfconf.a $(SECCOMP_LIBS) -lm
