/* Writing a parsed yajl tree value back out through a yajl generator. */
#ifndef RUNNERS_JSON_TREE_H
#define RUNNERS_JSON_TREE_H

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* Generate @v (any JSON value, numbers byte-exact) into @g. */
void json_tree_gen(yajl_gen g, yajl_val v);

#endif
