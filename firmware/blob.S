/* Embeds the built firmware image in the isovm binary. */
    .section .rodata
    .balign 4096
    .globl isovm_firmware_start, isovm_firmware_end
isovm_firmware_start:
    .incbin FW_BIN_PATH
isovm_firmware_end:
    .section .note.GNU-stack,"",@progbits
