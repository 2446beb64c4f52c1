# libFuzzer harnesses (clang, ASan+UBSan): `make fuzz` builds them; `make fuzz-smoke` runs each for
# FUZZ_SECONDS (20) from its seeds (tests/fuzz/seeds.py) and the corpus kept in $(BUILD)/fuzz/.
# A crash leaves its input in $(BUILD)/fuzz/crash-HARNESS-* and fails the target.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_FLAGS   := -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -I. \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_HARNESSES := virtq virtio_dev init_job image_check modules_order lsnap vnet lnet_frame p9 quota_budget \
                  keeper_msg http_request pool_request guest_mem exec_script sigframe
# harnesses of a parser small enough that FUZZ_SHORT_SECONDS cover it
FUZZ_SHORT   := exec_script sigframe
FUZZ_SHORT_SECONDS ?= 5
FUZZ_SRCS_virtq      := devices/virtio/virtq.c vmm/core/guest_ram.c
FUZZ_SRCS_virtio_dev := $(wildcard devices/virtio/*.c devices/virtio/*/*.c) vmm/core/guest_ram.c \
                        limits/io_throttle.c limits/token_bucket.c lib/clock.c
FUZZ_SRCS_init_job   := init/job_file.c init/job_write.c
FUZZ_SRCS_image_check := vmm/linux/image_check.c
FUZZ_SRCS_modules_order := init/modules_order.c
FUZZ_SRCS_vnet       := devices/virtio/net/vnet.c devices/virtio/mmio.c devices/virtio/virtq.c \
                        vmm/core/guest_ram.c limits/io_throttle.c limits/token_bucket.c lib/clock.c \
                        vmm/linux/lnet_frame.c
FUZZ_SRCS_lnet_frame := vmm/linux/lnet_frame.c
FUZZ_SRCS_p9        := $(wildcard vmm/share/p9_*.c vmm/caps/*.c lib/*.c policy/*.c limits/*.c) \
                        devices/virtio/p9/p9_wire.c vmm/core/job.c \
                        vmm/core/fault.c vmm/core/proc.c vmm/core/guest_mem.c vmm/core/paging.c
FUZZ_SRCS_quota_budget := quota/budget.c policy/units.c
FUZZ_SRCS_keeper_msg := quota/keeper_msg.c
FUZZ_SRCS_http_request := cli/http_request.c
FUZZ_SRCS_pool_request := pool/pool_wire.c
FUZZ_SRCS_guest_mem  := vmm/core/guest_mem.c vmm/core/paging.c
FUZZ_SRCS_exec_script := vmm/sys/exec_script.c
FUZZ_SRCS_sigframe := vmm/core/sigframe.c vmm/core/guest_mem.c
FUZZ_SRCS_lsnap      := vmm/linux/lsnap_file.c vmm/linux/lstate.c lib/sha256.c lib/sparse_read.c lib/log.c
FUZZ_HDRS    := $(wildcard devices/virtio/*.h devices/virtio/*/*.h vmm/core/guest_ram.h limits/*.h lib/clock.h \
                init/*.h vmm/linux/image_check.h vmm/linux/lsnap_file.h vmm/linux/lstate.h \
                vmm/linux/lvm.h lib/sha256.h lib/sparse_read.h devices/serial/uart8250.h)

.PHONY: fuzz fuzz-smoke
fuzz: $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_HARNESSES))

$(FUZZ_DIR)/fuzz_virtq: tests/fuzz/fuzz_virtq.c $(FUZZ_SRCS_virtq) $(FUZZ_HDRS)
$(FUZZ_DIR)/fuzz_virtio_dev: tests/fuzz/fuzz_virtio_dev.c $(FUZZ_SRCS_virtio_dev) $(FUZZ_HDRS)
$(FUZZ_DIR)/fuzz_init_job: tests/fuzz/fuzz_init_job.c $(FUZZ_SRCS_init_job) $(FUZZ_HDRS)
$(FUZZ_DIR)/fuzz_image_check: tests/fuzz/fuzz_image_check.c $(FUZZ_SRCS_image_check) $(FUZZ_HDRS)
$(FUZZ_DIR)/fuzz_modules_order: tests/fuzz/fuzz_modules_order.c $(FUZZ_SRCS_modules_order) $(FUZZ_HDRS)
$(FUZZ_DIR)/fuzz_vnet: tests/fuzz/fuzz_vnet.c $(FUZZ_SRCS_vnet) $(FUZZ_HDRS) vmm/linux/lnet_frame.h
$(FUZZ_DIR)/fuzz_lnet_frame: tests/fuzz/fuzz_lnet_frame.c $(FUZZ_SRCS_lnet_frame) vmm/linux/lnet_frame.h
$(FUZZ_DIR)/fuzz_p9: FUZZ_LDLIBS := -ljansson -lpthread
$(FUZZ_DIR)/fuzz_p9: tests/fuzz/fuzz_p9.c $(FUZZ_SRCS_p9) $(FUZZ_HDRS)
$(FUZZ_DIR)/fuzz_lsnap: tests/fuzz/fuzz_lsnap.c $(FUZZ_SRCS_lsnap) $(FUZZ_HDRS)
$(FUZZ_DIR)/fuzz_quota_budget: tests/fuzz/fuzz_quota_budget.c $(FUZZ_SRCS_quota_budget) quota/budget.h policy/units.h
$(FUZZ_DIR)/fuzz_keeper_msg: tests/fuzz/fuzz_keeper_msg.c $(FUZZ_SRCS_keeper_msg) quota/keeper.h quota/ledger.h quota/budget.h
$(FUZZ_DIR)/fuzz_http_request: tests/fuzz/fuzz_http_request.c $(FUZZ_SRCS_http_request) cli/http_request.h
$(FUZZ_DIR)/fuzz_pool_request: tests/fuzz/fuzz_pool_request.c $(FUZZ_SRCS_pool_request) pool/pool_wire.h
$(FUZZ_DIR)/fuzz_guest_mem: tests/fuzz/fuzz_guest_mem.c $(FUZZ_SRCS_guest_mem) vmm/core/guest_mem.h vmm/core/paging.h firmware/abi.h
$(FUZZ_DIR)/fuzz_sigframe: tests/fuzz/fuzz_sigframe.c $(FUZZ_SRCS_sigframe) vmm/core/sigframe.h vmm/core/guest_mem.h
$(FUZZ_DIR)/fuzz_exec_script: tests/fuzz/fuzz_exec_script.c $(FUZZ_SRCS_exec_script) vmm/sys/exec_script.h
$(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_HARNESSES)):
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@ $(FUZZ_LDLIBS)

fuzz-smoke: fuzz
	@rc=0; for h in $(FUZZ_HARNESSES); do \
	  rm -rf $(FUZZ_DIR)/seeds-$$h && tests/fuzz/seeds.py $$h $(FUZZ_DIR)/seeds-$$h || exit 1; \
	  mkdir -p $(FUZZ_DIR)/corpus-$$h; \
	  s=$(FUZZ_SECONDS); case " $(FUZZ_SHORT) " in *" $$h "*) s=$(FUZZ_SHORT_SECONDS);; esac; \
	  echo "== fuzz_$$h: $$s s"; \
	  $(FUZZ_DIR)/fuzz_$$h -max_total_time=$$s -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/crash-$$h- \
	    $(FUZZ_DIR)/corpus-$$h $(FUZZ_DIR)/seeds-$$h > $(FUZZ_DIR)/fuzz_$$h.log 2>&1 \
	    || { rc=1; echo "== FAILED: fuzz_$$h (log: $(FUZZ_DIR)/fuzz_$$h.log)"; tail -n 30 $(FUZZ_DIR)/fuzz_$$h.log; }; \
	  grep -E '^stat::(number_of_executed_units|new_units_added)' $(FUZZ_DIR)/fuzz_$$h.log; \
	done; exit $$rc
