/* The smallest well-behaved job: write "raw hello\n" to stdout, exit_group(0). */
	.text
	.globl _start
_start:
	mov	$1, %eax		/* write(1, msg, 10) */
	mov	$1, %edi
	lea	msg(%rip), %rsi
	mov	$10, %edx
	syscall
	cmp	$10, %rax
	jne	1f
	mov	$231, %eax		/* exit_group(0) */
	xor	%edi, %edi
	syscall
1:	mov	$231, %eax		/* exit_group(1): short write */
	mov	$1, %edi
	syscall
	hlt
	.section .rodata
msg:	.ascii "raw hello\n"
