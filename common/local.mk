# common/: what crosses the process boundary, linked by every program.
# libnfcore: util, logging, values, frames, messages (msg.c owns msgpack.h),
# JSON text (json.c owns jansson.h), the text side of templates and the
# step-type helpers workers share.
noinst_LIBRARIES += libnfcore.a libnfpolicy.a
libnfcore_a_SOURCES = common/util.c common/util.h common/log.c common/log.h \
	common/val.c common/val.h common/json.c common/json.h \
	common/frame.c common/msg.c common/proto.h \
	common/template.c common/template.h common/steptype.c \
	common/steptype.h
libnfcore_a_CPPFLAGS = $(NF_BASE_CPPFLAGS)
libnfcore_a_CFLAGS = $(AM_CFLAGS) $(MSGPACK_CFLAGS) $(JANSSON_CFLAGS)

# libnfpolicy: seccomp policies (policy.c owns seccomp.h): compiled by the
# supervisor at load and again by each worker.
libnfpolicy_a_SOURCES = common/policy.c common/policy.h
libnfpolicy_a_CPPFLAGS = $(NF_BASE_CPPFLAGS)
libnfpolicy_a_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS)

NF_CORE_LIBS = libnfcore.a $(MSGPACK_LIBS)
# For programs that call common/json.c (directly or through templates):
# json.o is its own archive member, so the others never link jansson.
NF_JSON_LIBS = $(JANSSON_LIBS)
NF_POLICY_LIBS = libnfpolicy.a $(SECCOMP_LIBS)
