/* The runners and sinks compiled into libcollector. */
#ifndef COLLECTOR_BUILTINS_H
#define COLLECTOR_BUILTINS_H

#include <collector/runner.h>
#include <collector/sink.h>

extern const struct runner_ops exec_runner_ops;
extern const struct runner_ops script_runner_ops;
extern const struct runner_ops container_runner_ops;
extern const struct runner_ops http_task_runner_ops;
extern const struct runner_ops process_runner_ops;
extern const struct runner_ops ssl_runner_ops;
extern const struct runner_ops algorithm_runner_ops;
extern const struct sink_ops stdout_sink_ops;
extern const struct sink_ops file_sink_ops;
extern const struct sink_ops pipe_sink_ops;
extern const struct sink_ops fifo_sink_ops;
extern const struct sink_ops kafka_sink_ops;
extern const struct sink_ops http_sink_ops;
extern const struct sink_ops otlp_sink_ops;

#endif
