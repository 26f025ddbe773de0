package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// tracing is the OpenTelemetry setup: nothing when no endpoint is
// configured, else a batching OTLP/HTTP exporter.
type tracing struct {
	tp *sdktrace.TracerProvider // nil when off
}

func newTracing(ctx context.Context, cfg config.Tracing) (*tracing, error) {
	if cfg.Endpoint == "" {
		return &tracing{}, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(cfg.Endpoint+"/v1/traces"))
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	ratio := cfg.SampleRatio
	if ratio == 0 {
		ratio = 1
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("inlay"))),
	)
	return &tracing{tp: tp}, nil
}

// provider returns the tracer provider, or nil when tracing is off.
func (t *tracing) provider() trace.TracerProvider {
	if t.tp == nil {
		return nil
	}
	return t.tp
}

// shutdown flushes spans still buffered.
func (t *tracing) shutdown(logger *slog.Logger) {
	if t.tp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.tp.Shutdown(ctx); err != nil {
		logger.Warn("flushing traces", slog.String("error", err.Error()))
	}
}
