/* lgdt in ring 3: #GP -> 139. */
#include "firmware/abi.h"
	.text
	.globl _start
_start:
	lgdt	gdtr(%rip)
	/* reached only if the instruction above was allowed */
	mov	$231, %eax	/* exit_group(0) */
	xor	%edi, %edi
	syscall
	hlt
	.data
gdtr:	.word 0xffff
	.quad 0
