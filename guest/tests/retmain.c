/* Returns 7 from main (the status goes through libc's exit path). */
int main(void)
{
    return 7;
}
