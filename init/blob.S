/* Embeds the built init (isovm-init, a static musl program) in the isovm binary. */
    .section .rodata
    .balign 4096
    .globl isovm_init_start, isovm_init_end
isovm_init_start:
    .incbin INIT_BIN_PATH
isovm_init_end:
    .section .note.GNU-stack,"",@progbits
