# The flash part of the C phone (native/phone/flash.h): its test program,
# driven by tests/host/native-phone-flash.test.ts. SHA-256 from libcrypto.
PHONE_FLASH_SRC := native/phone/flash.c native/phone/flash_dev.c native/phone/flash_fmt.c \
                   native/phone/flash_boot.c native/phone/flash_update.c
PHONE_FLASH_HDR := native/phone/flash.h native/phone/flash_impl.h native/phone/err.h
PHONE_PARTS += $(PHONE_DIR)/pfs-flash-tool

$(PHONE_DIR)/pfs-flash-tool: $(PHONE_FLASH_SRC) native/phone/flash_tool.c $(PHONE_FLASH_HDR) | phone-toolchain
	@mkdir -p $(@D)
	cc $(PHONE_CFLAGS) -o $@ $(filter %.c,$^) -lcrypto
