/* main.c - placeholder, wired up by the foundation work. */
#include <stdio.h>
int main(void)
{
	return 0;
}
