/* main() of a standalone loader binary: LOADER_MAIN names the loader's entry point. */
#include "loaders.h"

int main(int argc, char **argv)
{
	return LOADER_MAIN(argc, argv);
}
