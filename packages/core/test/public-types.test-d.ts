import { describe, expectTypeOf, it } from "vitest";
import type {
  CallOptions,
  Event,
  Kernel,
  KernelEventListener,
  OutgoingEvent,
  Reply,
  Service,
  ServiceContext,
  SwapEvent,
  SwapPhase,
} from "@mk/core";

describe("bus and hot swap types", () => {
  it("send and push take an event and options, and promise a reply", () => {
    expectTypeOf<Kernel["send"]>().parameter(0).toEqualTypeOf<Event>();
    expectTypeOf<Kernel["push"]>().parameter(1).toEqualTypeOf<CallOptions | undefined>();
    expectTypeOf<Kernel["push"]>().returns.toEqualTypeOf<Promise<Reply>>();
    expectTypeOf<ServiceContext["send"]>().parameter(0).toEqualTypeOf<OutgoingEvent>();
  });

  it("replace takes a service; swap listeners get a SwapEvent", () => {
    expectTypeOf<Kernel["replace"]>().parameters.toEqualTypeOf<[Service]>();
    expectTypeOf<KernelEventListener<"swap">>().parameter(0).toEqualTypeOf<SwapEvent>();
    expectTypeOf<SwapEvent["step"]>().toEqualTypeOf<
      "begin" | "held" | "drained" | "migrated" | "stopped" | "started" | "done" | "rolled-back"
    >();
    expectTypeOf<SwapPhase>().toEqualTypeOf<
      "validate" | "drain" | "export" | "transfer" | "import" | "stop" | "start"
    >();
  });
});
