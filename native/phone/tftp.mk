# The TFTP client (tftp.c) and its test program, pfs-tftp-get
# (tests/host/native-phone-tftp.test.ts drives it).
PHONE_PARTS += $(PHONE_DIR)/pfs-tftp-get

$(PHONE_DIR)/pfs-tftp-get: native/phone/tftp.c native/phone/tftp_tool.c native/phone/tftp.h native/phone/err.h | phone-toolchain
	@mkdir -p $(@D)
	cc $(PHONE_CFLAGS) -o $@ $(filter %.c,$^)
