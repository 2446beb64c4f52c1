/* mov %cr3,%rax in ring 3: #GP -> 139. */
#include "firmware/abi.h"
	.text
	.globl _start
_start:
	mov	%cr3, %rax
	/* reached only if the instruction above was allowed */
	mov	$231, %eax	/* exit_group(0) */
	xor	%edi, %edi
	syscall
	hlt
