/* main() of a standalone loader binary: LOADER_NAME names the runner whose loader it is. */
#include <collector/registry.h>

int main(int argc, char **argv)
{
	registry_add_builtins();
	return registry_run_loader(LOADER_NAME, argc, argv);
}
