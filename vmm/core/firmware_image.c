/* Finds the firmware image embedded in isovm and checks its header. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "firmware/abi.h"
#include "vmm/core/vm.h"
#include "lib/log.h"

extern const uint8_t isovm_firmware_start[], isovm_firmware_end[];

static uint64_t read_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t read_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

int firmware_image_get(struct firmware_image *fw)
{
    uint64_t size = (uint64_t)(isovm_firmware_end - isovm_firmware_start);
    const uint8_t *b = isovm_firmware_start;
    if (size < 0x38 || size > ISOVM_FW_CODE_END - ISOVM_FW_CODE_GPA ||
        read_u32(b + FWH_MAGIC) != ISOVM_FW_MAGIC || read_u32(b + FWH_ABI) != ISOVM_ABI_VERSION) {
        log_err("internal: embedded firmware image is missing or of another ABI");
        return -ENOEXEC;
    }
    fw->bytes = b;
    fw->size = size;
    fw->start_gpa = ISOVM_FW_CODE_GPA + read_u64(b + FWH_START);
    fw->syscall_gpa = ISOVM_FW_CODE_GPA + read_u64(b + FWH_SYSCALL);
    fw->exc_stubs_gpa = ISOVM_FW_CODE_GPA + read_u64(b + FWH_EXC_STUBS);
    fw->exc_stride = read_u64(b + FWH_EXC_STRIDE);
    fw->tlb_flush_gpa = ISOVM_FW_CODE_GPA + read_u64(b + FWH_TLB_FLUSH);
    fw->hcall_out_gpa = ISOVM_FW_CODE_GPA + read_u64(b + FWH_HCALL_OUT);
    if (fw->exc_stubs_gpa + 32 * fw->exc_stride > ISOVM_FW_CODE_GPA + size ||
        fw->tlb_flush_gpa + ISOVM_FW_TLB_FLUSH_LEN > ISOVM_FW_CODE_GPA + size ||
        fw->hcall_out_gpa + 2 > ISOVM_FW_CODE_GPA + size) {
        log_err("internal: a firmware entry point (exception stubs, TLB flush or hypercall) lies outside the image");
        return -ENOEXEC;
    }
    return 0;
}
