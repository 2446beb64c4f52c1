# cmocka unit tests for host-side logic, plus the badelf generator; `make unit-run` builds and runs them.
# test_elf links the code under test with tests/unit/fake_guest_mem.c, never with vmm/core/guest_mem.c;
# the guest_mem/syscall tests link the real vmm objects over tests/unit/job_fixture.c (no KVM).

UNIT_TESTS     := $(BUILD)/tests/test_elf $(BUILD)/tests/test_stack \
                  $(BUILD)/tests/test_guest_mem $(BUILD)/tests/test_sys_mem \
                  $(BUILD)/tests/test_syscalls $(BUILD)/tests/test_units $(BUILD)/tests/test_limits \
                  $(BUILD)/tests/test_token_bucket $(BUILD)/tests/test_cap $(BUILD)/tests/test_determinism $(BUILD)/tests/test_audit \
                  $(BUILD)/tests/test_filter $(BUILD)/tests/test_report $(BUILD)/tests/test_read_cache
UNIT_TOOLS     := $(BUILD)/tests/badelf
UNIT_LDLIBS    := -lcmocka -ljansson -lpthread
UNIT_FIXTURE   := $(BUILD)/tests/unit/elf_fixture.o
UNIT_FAKE_GMEM := $(BUILD)/tests/unit/fake_guest_mem.o
UNIT_JOB_FIX   := $(BUILD)/tests/unit/job_fixture.o
# the layers below the run loop (docs/architecture.md), with the control socket and its client
# (test_audit); not the launch path, the run loop, the jailer or the command line
# (test_audit); not the launch path, the run loop, the jailer or the command line; the ELF loader
# and the stack builder are tested apart over fake guest memory (test_elf, test_stack)
UNIT_VMM_OBJS  := $(filter $(patsubst %,$(BUILD)/%/%,lib policy limits vmm/core vmm/caps vmm/sys \
                  vmm/hypercall),$(VMM_OBJS)) \
                  $(BUILD)/vmm/run/control.o $(BUILD)/cli/control_client.o $(BUILD)/firmware/blob.o
UNIT_OBJS      := $(BUILD)/tests/unit/test_elf.o $(BUILD)/tests/unit/test_stack.o \
                  $(UNIT_FIXTURE) $(UNIT_FAKE_GMEM) $(BUILD)/tests/tools/badelf.o $(UNIT_JOB_FIX) \
                  $(patsubst %,$(BUILD)/tests/unit/%.o,test_guest_mem test_sys_mem test_syscalls test_units test_limits \
                  test_token_bucket test_cap test_determinism test_audit test_filter test_report test_read_cache)

# the syscall support table against the handlers, and docs/syscalls.md its rendering
UNIT_TESTS     += $(BUILD)/tests/test_syscall_doc
UNIT_OBJS      += $(BUILD)/tests/unit/test_syscall_doc.o
$(BUILD)/tests/unit/test_syscall_doc.o: CFLAGS += -DISOVM_SYSCALLS_DOC='"$(CURDIR)/docs/syscalls.md"'
.PHONY: docs-syscalls
docs-syscalls: $(BUILD)/tests/test_syscall_doc
	ISOVM_UPDATE_DOCS=1 $(BUILD)/tests/test_syscall_doc

# the file-system syscalls over real host directories (over the job fixture)
UNIT_TESTS     += $(BUILD)/tests/test_sys_fs
UNIT_OBJS      += $(BUILD)/tests/unit/test_sys_fs.o

# the file-system view's guest path logic (pure)
UNIT_TESTS     += $(BUILD)/tests/test_fs_path
UNIT_OBJS      += $(BUILD)/tests/unit/test_fs_path.o

# the policy parser with jansson: policy/*.c but the token bucket, which is not the parser's
UNIT_TESTS     += $(BUILD)/tests/test_policy
UNIT_OBJS      += $(BUILD)/tests/unit/test_policy.o
UNIT_POLICY_OBJS := $(addprefix $(BUILD)/policy/,policy.o policy_file.o policy_locate.o units.o rights.o \
                    policy_grants.o policy_syscalls.o policy_endpoints.o policy_text.o policy_value.o) $(BUILD)/lib/json_str.o $(BUILD)/lib/syscall_names.o \
                    $(BUILD)/lib/text_edits.o

# the policy's network endpoints (same objects as test_policy)
UNIT_TESTS     += $(BUILD)/tests/test_endpoints
UNIT_OBJS      += $(BUILD)/tests/unit/test_endpoints.o

# isovm jail's argument checks (pure)
UNIT_TESTS     += $(BUILD)/tests/test_jail
UNIT_OBJS      += $(BUILD)/tests/unit/test_jail.o
# the VMM's seccomp allowlist (vmm/run/vmm_seccomp.c) against docs/security.md
UNIT_LDLIBS    += -Wl,-Bstatic -lseccomp -Wl,-Bdynamic
UNIT_TESTS     += $(BUILD)/tests/test_vmm_seccomp
UNIT_OBJS      += $(BUILD)/tests/unit/test_vmm_seccomp.o
$(BUILD)/tests/unit/test_vmm_seccomp.o: CFLAGS += -DISOVM_SECURITY_DOC='"$(CURDIR)/docs/security.md"'
$(BUILD)/tests/test_vmm_seccomp: $(BUILD)/tests/unit/test_vmm_seccomp.o $(BUILD)/vmm/run/vmm_seccomp.o \
                                 $(BUILD)/vmm/run/vsc_bpf.o $(VSC_BPF_OBJ) \
                                 $(BUILD)/lib/log.o $(BUILD)/lib/test_hooks.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the Linux tier's devices (docs/devices.md) over fake guest RAM and a fake driver
# (tests/unit/virtio_fixture.c): no KVM, no terminal, no disk but temporary files
DEV_TESTS      := test_guest_ram test_virtq test_virtio_mmio test_virtio_blk test_virtio_console \
                  test_status_port test_job_port
UNIT_TESTS     += $(patsubst %,$(BUILD)/tests/%,$(DEV_TESTS))
UNIT_OBJS      += $(patsubst %,$(BUILD)/tests/unit/%.o,$(DEV_TESTS)) $(BUILD)/tests/unit/virtio_fixture.o
UNIT_DEV_OBJS  := $(filter $(BUILD)/devices/%,$(VMM_OBJS)) $(BUILD)/vmm/core/guest_ram.o \
                  $(BUILD)/limits/io_throttle.o $(BUILD)/limits/token_bucket.o $(BUILD)/lib/clock.o
$(patsubst %,$(BUILD)/tests/%,$(DEV_TESTS)): \
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/tests/unit/virtio_fixture.o $(UNIT_DEV_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

unit-run: unit
	@rc=0; for t in $(UNIT_TESTS); do echo "== $$t"; $$t || { rc=1; echo "== FAILED: $$t"; }; done; \
	echo "== tests/layout/check_layers.py"; tests/layout/check_layers.py || rc=1; \
	rm -rf $(BUILD)/tests/badelf-out && mkdir -p $(BUILD)/tests/badelf-out && \
	echo "== $(BUILD)/tests/badelf: $$($(BUILD)/tests/badelf $(BUILD)/tests/badelf-out | wc -l) files" && \
	exit $$rc

$(BUILD)/tests/test_elf: $(BUILD)/tests/unit/test_elf.o $(UNIT_FIXTURE) $(UNIT_FAKE_GMEM) \
                         $(BUILD)/vmm/core/elf_load.o $(BUILD)/vmm/core/elf_check.o $(BUILD)/vmm/core/stack_build.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

$(BUILD)/tests/test_stack: $(BUILD)/tests/unit/test_stack.o $(BUILD)/vmm/core/stack_build.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

$(BUILD)/tests/test_guest_mem $(BUILD)/tests/test_sys_mem $(BUILD)/tests/test_syscalls $(BUILD)/tests/test_limits $(BUILD)/tests/test_cap \
$(BUILD)/tests/test_determinism $(BUILD)/tests/test_audit $(BUILD)/tests/test_filter \
$(BUILD)/tests/test_read_cache $(BUILD)/tests/test_sys_fs $(BUILD)/tests/test_syscall_doc: \
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(UNIT_JOB_FIX) $(UNIT_VMM_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the report writer over the job fixture (report.o is not among UNIT_VMM_OBJS)
$(BUILD)/tests/test_report: $(BUILD)/tests/unit/test_report.o $(UNIT_JOB_FIX) $(UNIT_VMM_OBJS) \
                            $(BUILD)/vmm/run/report.o $(BUILD)/vmm/run/tenant_report.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

$(BUILD)/tests/test_units: $(BUILD)/tests/unit/test_units.o $(BUILD)/policy/units.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

$(BUILD)/tests/test_token_bucket: $(BUILD)/tests/unit/test_token_bucket.o \
                                 $(BUILD)/limits/token_bucket.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

$(BUILD)/tests/test_policy: $(BUILD)/tests/unit/test_policy.o $(UNIT_POLICY_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS) -ljansson

$(BUILD)/tests/test_endpoints: $(BUILD)/tests/unit/test_endpoints.o $(UNIT_POLICY_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS) -ljansson

$(BUILD)/tests/test_fs_path: $(BUILD)/tests/unit/test_fs_path.o $(BUILD)/vmm/caps/fs_path.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

$(BUILD)/tests/badelf: $(BUILD)/tests/tools/badelf.o $(UNIT_FIXTURE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/test_jail: $(BUILD)/tests/unit/test_jail.o $(BUILD)/jail/jail_args.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the Linux tier's ACPI tables and AML encoder (iasl, from acpica-tools, reads the DSDT back)
UNIT_TESTS     += $(BUILD)/tests/test_acpi
UNIT_OBJS      += $(BUILD)/tests/unit/test_acpi.o
$(BUILD)/tests/test_acpi: $(BUILD)/tests/unit/test_acpi.o $(BUILD)/vmm/linux/acpi.o $(BUILD)/vmm/linux/aml.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the Linux tier's PVH kernel loader and start_info (crafted kernels; Debian's vmlinux when the
# emulated host's cache has it)
UNIT_TESTS     += $(BUILD)/tests/test_pvh
UNIT_OBJS      += $(BUILD)/tests/unit/test_pvh.o
$(BUILD)/tests/test_pvh: $(BUILD)/tests/unit/test_pvh.o $(BUILD)/vmm/linux/pvh.o $(BUILD)/vmm/core/elf_check.o $(BUILD)/lib/sparse_read.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the Linux tier's initramfs writer (GNU cpio extracts what it writes)
UNIT_TESTS     += $(BUILD)/tests/test_cpio
UNIT_OBJS      += $(BUILD)/tests/unit/test_cpio.o
$(BUILD)/tests/test_cpio: $(BUILD)/tests/unit/test_cpio.o $(BUILD)/vmm/linux/cpio.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the Linux tier's serial port (the kernel's console)
UNIT_TESTS     += $(BUILD)/tests/test_uart8250
UNIT_OBJS      += $(BUILD)/tests/unit/test_uart8250.o
$(BUILD)/tests/test_uart8250: $(BUILD)/tests/unit/test_uart8250.o $(BUILD)/devices/serial/uart8250.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the job file of the Linux tier's init (init/job_file.c, init/job_write.c), built for the host
UNIT_TESTS     += $(BUILD)/tests/test_init_job
UNIT_OBJS      += $(BUILD)/tests/unit/test_init_job.o
$(BUILD)/tests/test_init_job: $(BUILD)/tests/unit/test_init_job.o $(BUILD)/init/job_file.o \
                              $(BUILD)/init/job_write.o $(BUILD)/init/modules_order.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the init's cgroup set-up over a fake hierarchy, its job outcomes, its program lookup (host-built)
UNIT_TESTS     += $(BUILD)/tests/test_init_cgroup $(BUILD)/tests/test_init_exec
UNIT_OBJS      += $(BUILD)/tests/unit/test_init_cgroup.o $(BUILD)/tests/unit/test_init_exec.o
$(BUILD)/tests/test_init_cgroup: $(BUILD)/tests/unit/test_init_cgroup.o $(BUILD)/init/cgroup.o \
                                 $(BUILD)/init/outcome.o $(BUILD)/init/fsutil.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)
$(BUILD)/tests/test_init_exec: $(BUILD)/tests/unit/test_init_exec.o $(BUILD)/init/exec_path.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# SHA-256 (lib/sha256.c: the image cache's keys)
UNIT_TESTS     += $(BUILD)/tests/test_sha256
UNIT_OBJS      += $(BUILD)/tests/unit/test_sha256.o
$(BUILD)/tests/test_sha256: $(BUILD)/tests/unit/test_sha256.o $(BUILD)/lib/sha256.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the Linux tier's image checks before boot (crafted superblocks and files; real images from
# mkfs.ext4, mksquashfs and mkfs.erofs when installed)
UNIT_TESTS     += $(BUILD)/tests/test_image_check
UNIT_OBJS      += $(BUILD)/tests/unit/test_image_check.o
$(BUILD)/tests/test_image_check: $(BUILD)/tests/unit/test_image_check.o $(BUILD)/vmm/linux/image_check.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the Linux tier's exit dispatch (vmm/linux/ldev.c) with synthetic port and MMIO exits, no KVM
UNIT_TESTS     += $(BUILD)/tests/test_ldev
UNIT_OBJS      += $(BUILD)/tests/unit/test_ldev.o
$(BUILD)/tests/test_ldev: $(BUILD)/tests/unit/test_ldev.o $(BUILD)/vmm/linux/ldev.o $(UNIT_DEV_OBJS) \
                          $(BUILD)/lib/log.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the Linux tier's snapshot file and cache (no KVM: the state is plain data here)
UNIT_TESTS     += $(BUILD)/tests/test_lsnap
UNIT_OBJS      += $(BUILD)/tests/unit/test_lsnap.o
$(BUILD)/tests/test_lsnap: $(BUILD)/tests/unit/test_lsnap.o $(BUILD)/vmm/linux/lsnap_file.o \
                           $(BUILD)/vmm/linux/lsnap_cache.o $(BUILD)/vmm/linux/lstate.o $(BUILD)/lib/sha256.o \
                           $(BUILD)/lib/sparse_read.o $(BUILD)/lib/cache_dir.o $(BUILD)/lib/log.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the grants' 9P2000.L server over real host directories and the job fixture (vmm/share/)
UNIT_TESTS     += $(BUILD)/tests/test_p9
UNIT_OBJS      += $(BUILD)/tests/unit/test_p9.o
$(BUILD)/tests/test_p9: $(BUILD)/tests/unit/test_p9.o $(UNIT_JOB_FIX) $(UNIT_VMM_OBJS) \
                        $(BUILD)/vmm/share/p9_server.o $(BUILD)/vmm/share/p9_ops.o \
                        $(BUILD)/vmm/share/p9_fid.o $(BUILD)/devices/virtio/p9/p9_wire.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# last: a rule's prerequisites expand where it is read, so every UNIT_TESTS += above is in them
.PHONY: unit unit-run
unit: $(UNIT_TESTS) $(UNIT_TOOLS)


# the Linux tier's network: virtio-net over fake guest RAM and a fake driver (test_vnet); the
# libslirp backend for real on this host, frames built as a guest would (test_lnet; no KVM)
UNIT_TESTS     += $(BUILD)/tests/test_vnet
UNIT_OBJS      += $(BUILD)/tests/unit/test_vnet.o
$(BUILD)/tests/test_vnet: $(BUILD)/tests/unit/test_vnet.o $(BUILD)/tests/unit/virtio_fixture.o $(UNIT_DEV_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)
unit: $(BUILD)/tests/test_vnet
UNIT_TESTS     += $(BUILD)/tests/test_lnet
UNIT_OBJS      += $(BUILD)/tests/unit/test_lnet.o
$(BUILD)/tests/test_lnet: $(BUILD)/tests/unit/test_lnet.o $(BUILD)/tests/unit/virtio_fixture.o \
                          $(UNIT_DEV_OBJS) $(BUILD)/vmm/linux/lnet.o $(BUILD)/vmm/linux/lnet_fwd.o \
                          $(BUILD)/vmm/linux/lnet_frame.o $(BUILD)/vmm/linux/lnet_udp.o \
                          $(BUILD)/vmm/linux/lnet_guest.o $(BUILD)/vmm/linux/lnet_endpoint.o $(BUILD)/vmm/linux/lnet_report.o \
                          $(UNIT_POLICY_OBJS) $(BUILD)/lib/log.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS) $(SLIRP_LIBS)
unit: $(BUILD)/tests/test_lnet

# last, once every test's object is in UNIT_OBJS (earlier, the later tests had no header
# dependencies)
-include $(UNIT_OBJS:.o=.d)

# tenant budgets across jobs: the items of `isovm quota set` and the calendar windows (pure)
UNIT_TESTS     += $(BUILD)/tests/test_quota
UNIT_OBJS      += $(BUILD)/tests/unit/test_quota.o
unit: $(BUILD)/tests/test_quota
$(BUILD)/tests/test_quota: $(BUILD)/tests/unit/test_quota.o $(BUILD)/quota/budget.o $(BUILD)/policy/units.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the tenant ledger over real SQLite files (forks processes for concurrency and dead owners)
UNIT_TESTS     += $(BUILD)/tests/test_ledger
UNIT_OBJS      += $(BUILD)/tests/unit/test_ledger.o
unit: $(BUILD)/tests/test_ledger
$(BUILD)/tests/test_ledger: $(BUILD)/tests/unit/test_ledger.o $(patsubst %.c,$(BUILD)/%.o,$(wildcard quota/ledger*.c)) \
                            $(BUILD)/quota/budget.o $(BUILD)/policy/units.o $(BUILD)/lib/clock.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS) -Wl,-Bstatic -lsqlite3 -Wl,-Bdynamic -lm

# the ledger keeper, a process per job, over real SQLite files (admission, checkpoints, verdicts,
# settlement, a VMM or keeper that dies, a forged message)
UNIT_TESTS     += $(BUILD)/tests/test_keeper
UNIT_OBJS      += $(BUILD)/tests/unit/test_keeper.o
unit: $(BUILD)/tests/test_keeper
$(BUILD)/tests/test_keeper: $(BUILD)/tests/unit/test_keeper.o $(patsubst %.c,$(BUILD)/%.o,$(wildcard quota/ledger*.c quota/keeper*.c)) \
                            $(BUILD)/quota/budget.o $(BUILD)/policy/units.o $(BUILD)/lib/clock.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS) -Wl,-Bstatic -lsqlite3 -Wl,-Bdynamic -lm

# the HTTP request head parser of `isovm quota serve` (pure)
UNIT_TESTS     += $(BUILD)/tests/test_http_request
UNIT_OBJS      += $(BUILD)/tests/unit/test_http_request.o
unit: $(BUILD)/tests/test_http_request
$(BUILD)/tests/test_http_request: $(BUILD)/tests/unit/test_http_request.o $(BUILD)/cli/http_request.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# tests/quota/serve_cases.sh's helper: a job's usage recorded through the ledger's API (no KVM)
UNIT_OBJS      += $(BUILD)/tests/quota/ledger_record.o
unit: $(BUILD)/tests/ledger_record
$(BUILD)/tests/ledger_record: $(BUILD)/tests/quota/ledger_record.o $(patsubst %.c,$(BUILD)/%.o,$(wildcard quota/ledger*.c)) \
                              $(BUILD)/quota/budget.o $(BUILD)/policy/units.o $(BUILD)/lib/clock.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -Wl,-Bstatic -lsqlite3 -Wl,-Bdynamic -lm

# isovm pool's request check (pool/pool_wire.c)
UNIT_TESTS     += $(BUILD)/tests/test_pool_wire
UNIT_OBJS      += $(BUILD)/tests/unit/test_pool_wire.o
unit: $(BUILD)/tests/test_pool_wire
$(BUILD)/tests/test_pool_wire: $(BUILD)/tests/unit/test_pool_wire.o $(BUILD)/pool/pool_wire.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

# the guest RAM image a pool's VMs start from (vmm/core/vm_image.c), without KVM
UNIT_TESTS     += $(BUILD)/tests/test_vm_image
UNIT_OBJS      += $(BUILD)/tests/unit/test_vm_image.o
unit: $(BUILD)/tests/test_vm_image
$(BUILD)/tests/test_vm_image: $(BUILD)/tests/unit/test_vm_image.o $(UNIT_JOB_FIX) $(UNIT_VMM_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)
