# The syslog formatter of the C phone (syslog.c) and its test program,
# pfs-syslog-fmt: one message from its flags (syslog_tool.c), driven by
# tests/host/native-syslog.test.ts.
PHONE_PARTS += $(PHONE_DIR)/pfs-syslog-fmt

$(PHONE_DIR)/pfs-syslog-fmt: native/phone/syslog.c native/phone/syslog_tool.c native/phone/net.c native/phone/syslog.h native/phone/net.h build/gen/pfs_abi.h | phone-toolchain
	@mkdir -p $(@D)
	cc $(PHONE_CFLAGS) $(NATIVE_INC) -o $@ $(filter %.c,$^)
