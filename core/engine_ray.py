"""The demos' model work on Ray Serve: one deployment per demo, and the client the front ends use.

Imported only in Ray mode (``NEURAL_GALLERY_SERVE=ray``, see ``core.engine``) and by the deploy
command (``scripts/serve_ray.py``, ``make serve``). A replica imports its demo's module (which
loads no model: models load lazily, once per replica, through ``core.models.MODELS``) and runs
the works it is sent embedded. Answers travel as ``(ok, value)`` pairs, so a visitor's bad input
comes back as the same ``InputError`` and one visitor's bad item never fails the rest of a batch.
A front end talks to the cluster through a driver process of its own (``RayServe``, ``drive``).
"""
from __future__ import annotations

import asyncio
import importlib
import itertools
import multiprocessing
import os
import pickle
import queue
import socket
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, AsyncIterator, Iterator

import ray
from ray import serve

from core.engine import SERVE_ENV, ModelServerUnavailable, Work, run_here, start_shared_work, works_of
from core.progress import Progress
from core.ray_head import CLIENT_ENV, own_head

DEPLOYMENT = "models"  # each demo is a Serve application holding one deployment of this name
ADDRESS_ENV = "RAY_ADDRESS"
TIMEOUT_ENV = "NEURAL_GALLERY_SERVE_TIMEOUT_S"
NAMESPACE = "neural_gallery"
RETRIES = 3  # a request whose replica died is sent again this many times
Outcome = tuple[bool, Any]  # (True, result) or (False, the exception it raised)


@dataclass(frozen=True)
class Scaling:
    """How one demo's deployment scales (Serve's ``autoscaling_config`` and replica options)."""

    min_replicas: int = 1
    max_replicas: int = 2
    target_ongoing_requests: float = 2.0
    upscale_delay_s: float = 3.0
    downscale_delay_s: float = 60.0
    look_back_period_s: float = 30.0  # the window of load the autoscaler averages
    max_ongoing_requests: int = 8  # per replica; a batch gathers at most this many
    cpus: float = 0.5  # Ray's logical CPUs per replica
    gpus: float = 0.0  # a fraction shares one GPU between small models
    batch_wait_s: float = 0.02  # how long a batch waits for other visitors' items
    max_batch_size: int = 0  # 0: the largest its works declare; 1 turns batching off (benchmarks/bench_batching.py)

    def autoscaling_config(self) -> dict[str, float]:
        keys = ("min_replicas", "max_replicas", "target_ongoing_requests", "upscale_delay_s", "downscale_delay_s",
                "look_back_period_s")
        return {key: value for key, value in asdict(self).items() if key in keys}


# --- the replica ------------------------------------------------------------------------

def _outcome(key: str, args: tuple, kwargs: dict[str, Any]) -> Outcome:
    try:
        return True, run_here(key, args, kwargs)
    except Exception as error:  # handed back to the caller, who raises it
        return False, error


def _batch_outcomes(key: str, items: list[Any]) -> list[Outcome]:
    """One batched call; if it fails, each item alone, so that only the bad item fails."""
    ok, results = _outcome(key, (items,), {})
    if ok and len(results) == len(items):
        return [(True, result) for result in results]
    return [_single_item(key, item) for item in items]


def _single_item(key: str, item: Any) -> Outcome:
    ok, result = _outcome(key, ([item],), {})
    return (True, result[0]) if ok else (False, result)


class DemoModels:
    """A replica: its demo's model work, run in this process."""

    def __init__(self, module: str) -> None:
        os.environ[SERVE_ENV] = "embedded"  # the works it runs call each other here, not over the network
        self.module = importlib.import_module(module)  # registers the demo's works; loads no model
        threading.Thread(target=self._warm, name="warm", daemon=True).start()  # Serve sees it ready meanwhile

    def _warm(self) -> None:
        """The replica exists to serve this demo: its model and its shared work get ready before any visitor."""
        load = getattr(self.module, "load", None)
        if callable(load):
            load()
        start_shared_work(self.module)

    async def run(self, key: str, args: tuple, kwargs: dict[str, Any]) -> Outcome:
        return await asyncio.to_thread(_outcome, key, args, kwargs)

    async def run_streaming(self, key: str, args: tuple, kwargs: dict[str, Any]) -> AsyncIterator[tuple[str, Any]]:
        """Yields ("progress", Progress) as the work reports it, then ("outcome", Outcome)."""
        loop, reports = asyncio.get_running_loop(), asyncio.Queue()

        def report(progress: Progress) -> None:
            loop.call_soon_threadsafe(reports.put_nowait, ("progress", progress))

        task = asyncio.ensure_future(asyncio.to_thread(_outcome, key, args, {**kwargs, "progress": report}))
        task.add_done_callback(lambda done: reports.put_nowait(("outcome", done.result())))
        while True:
            kind, value = await reports.get()
            while kind == "progress" and not reports.empty():  # a visitor needs the latest (Atari: 700 KB each)
                kind, value = reports.get_nowait()
            yield kind, value
            if kind == "outcome":
                return

    async def batched(self, requests: list[tuple[str, Any]]) -> list[Outcome]:
        """Items of many visitors (``@serve.batch`` gathers them), run as one batch per work."""
        by_key: dict[str, list[int]] = defaultdict(list)
        for index, (key, _) in enumerate(requests):
            by_key[key].append(index)
        outcomes: list[Outcome] = [(False, RuntimeError("not run"))] * len(requests)
        for key, indices in by_key.items():
            results = await asyncio.to_thread(_batch_outcomes, key, [requests[i][1] for i in indices])
            for index, outcome in zip(indices, results):
                outcomes[index] = outcome
        return outcomes


def build(args: dict[str, Any]) -> serve.Application:
    """A demo's Serve application: ``{"demo": slug, "module": "demos.<slug>", **Scaling fields}``.
    Also the ``import_path`` builder of a Serve config file (KubeRay's ``serveConfigV2``)."""
    demo, module = args["demo"], args["module"]
    scaling = Scaling(**{key: value for key, value in args.items() if key not in ("demo", "module")})
    importlib.import_module(module)
    batch = scaling.max_batch_size or max([work.batch for work in works_of(demo)] or [1])
    replica = type(f"{demo}_models", (DemoModels,), {
        "batched": serve.batch(max_batch_size=max(1, batch), batch_wait_timeout_s=scaling.batch_wait_s)(
            DemoModels.batched),
    })
    deployment = serve.deployment(
        replica, name=DEPLOYMENT, max_ongoing_requests=scaling.max_ongoing_requests,
        autoscaling_config=scaling.autoscaling_config(),
        ray_actor_options={"num_cpus": scaling.cpus, "num_gpus": scaling.gpus},  # the job's runtime_env sets PYTHONPATH
    )
    return deployment.bind(module)


def deploy(modules: dict[str, str], scaling: dict[str, Scaling] | None = None, default: Scaling = Scaling()) -> None:
    """Deploy each demo (slug -> module) as its own Serve application on the connected cluster."""
    serve.start(proxy_location="Disabled")  # no HTTP proxy: the front ends reach the replicas through handles
    for demo, module in modules.items():
        chosen = (scaling or {}).get(demo, default)
        serve.run(build({"demo": demo, "module": module, **asdict(chosen)}), name=demo, route_prefix=None)


# --- the client (front ends) ------------------------------------------------------------

def _reachable(address: str) -> bool:
    """A quick look before ``ray.init``, which waits long for an address nobody answers."""
    if address in ("", "auto") or address.startswith("ray://"):
        return True  # "auto" fails fast by itself when no cluster runs here
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


class RayServe:
    """The front ends' engine in Ray mode. Its Ray driver runs in a child process (``RayDriver``): a driver
    whose Ray node dies exits with it (measured: ``ray stop`` took a Gradio front end down), and a front end
    must outlive its model server, tell its visitors, and reconnect when the server is back."""

    name = "ray"

    def __init__(self) -> None:
        # RAY_ADDRESS; else the head `scripts/serve_ray.py up` started; else Ray's "auto" (`ray start` here)
        head = own_head()
        if head is not None:
            os.environ.update(CLIENT_ENV)  # inherited by the driver process, whose Ray reads it as it starts
        self.address = head.address if head else os.environ.get(ADDRESS_ENV, "auto")
        self.timeout_s = float(os.environ.get(TIMEOUT_ENV, "120"))
        self._lock = threading.Lock()
        self._link: DriverLink | None = None

    def call(self, work: Work, args: tuple, kwargs: dict[str, Any]) -> Any:
        if not _reachable(self.address):
            self._forget_driver()  # it belongs to a cluster that is gone; one that comes back gets a new driver
            raise ModelServerUnavailable(UNREACHABLE)
        return self._driver().call(work, args, kwargs, self.timeout_s)

    def _forget_driver(self) -> None:
        with self._lock:
            if self._link is not None:
                self._link.process.kill()
                self._link = None

    def _driver(self) -> DriverLink:
        with self._lock:
            if self._link is None or self._link.closed:
                self._link = DriverLink(self.address, self.timeout_s)
            return self._link


class DriverLink:
    """The front end's end of the pipe to its driver process: many visitors' calls at once, each answer (and
    its progress) routed back to its caller by request number."""

    def __init__(self, address: str, timeout_s: float) -> None:
        context = multiprocessing.get_context("spawn")  # a fork would copy the front end's threads and models
        self.connection, driver_end = context.Pipe()
        self.process = context.Process(target=drive, args=(driver_end, address, timeout_s), daemon=True)
        self.process.start()
        driver_end.close()
        self.closed = False
        self.pending: dict[int, queue.SimpleQueue] = {}
        self.numbers = itertools.count()
        self.sending = threading.Lock()
        threading.Thread(target=self._read_answers, name="ray-driver-answers", daemon=True).start()

    def call(self, work: Work, args: tuple, kwargs: dict[str, Any], timeout_s: float) -> Any:
        progress = kwargs.get("progress")
        sent = {key: value for key, value in kwargs.items() if key != "progress"}
        number, answers = next(self.numbers), queue.SimpleQueue()
        self.pending[number] = answers
        try:
            if self.closed:  # checked after registering: the reader empties ``pending`` once it has closed
                raise ModelServerUnavailable(LOST)
            try:
                with self.sending:
                    self.connection.send((number, work.key, work.demo, work.batch, args, sent, progress is not None))
            except OSError:  # the driver died before the reader noticed
                raise ModelServerUnavailable(LOST) from None
            return self._answer(answers, progress, timeout_s)
        finally:
            self.pending.pop(number, None)

    @staticmethod
    def _answer(answers: queue.SimpleQueue, progress: Any, timeout_s: float) -> Any:
        while True:
            try:
                kind, value = answers.get(timeout=timeout_s)
            except queue.Empty:
                raise ModelServerUnavailable(LATE) from None
            if kind == "gone":
                raise ModelServerUnavailable(LOST)
            if kind == "progress":
                progress(pickle.loads(value))
            else:
                return _unpack(pickle.loads(value))

    def _read_answers(self) -> None:
        try:
            while True:
                number, kind, value = self.connection.recv()
                answers = self.pending.get(number)
                if answers is not None:
                    answers.put((kind, value))
        except (EOFError, OSError):  # the driver died (with its Ray node, or killed): every waiting caller is told
            self.closed = True
            self.process.join(timeout=5)
            for answers in list(self.pending.values()):
                answers.put(("gone", None))


UNREACHABLE = "The model server is unreachable right now, so this demo cannot run; try again in a minute."
LOST = "The model server lost this request; please try again."
LATE = "The model server did not answer in time; try again in a minute."
DRIVER_GCS_PATIENCE_S = 5
DRIVER_THREADS = 64  # requests one front end has in flight at most; more wait for a thread


def drive(connection: Any, address: str, timeout_s: float) -> None:
    """The driver process: takes requests from the front end, sends each through a deployment handle, answers."""
    # a driver whose cluster went away exits soon (it would cling to a new cluster at the same address and
    # hang); its front end starts a new one
    os.environ["RAY_gcs_rpc_server_reconnect_timeout_s"] = str(DRIVER_GCS_PATIENCE_S)
    driver, sending = RayDriver(address, timeout_s), threading.Lock()

    def answer(number: int, kind: str, value: Any) -> None:
        try:  # pickled apart from the envelope: an answer that cannot travel fails its own request only
            payload = pickle.dumps(value)
        except Exception as error:
            payload = pickle.dumps((False, RuntimeError(f"an answer that cannot travel: {error!r}")))
        with sending:
            connection.send((number, kind, payload))

    with ThreadPoolExecutor(DRIVER_THREADS) as pool:
        while True:
            try:
                request = connection.recv()
            except (EOFError, OSError):  # the front end is gone
                return
            pool.submit(_serve_request, driver, answer, *request)


def _serve_request(driver: RayDriver, answer: Any, number: int, key: str, demo: str, batch: int, args: tuple,
                   kwargs: dict[str, Any], streams: bool) -> None:
    if streams:
        kwargs = {**kwargs, "progress": lambda progress: answer(number, "progress", progress)}
    try:
        outcome: Outcome = True, driver.call(key, demo, batch, args, kwargs)
    except Exception as error:  # handed back to the front end, which raises it
        outcome = False, error
    answer(number, "outcome", outcome)


class RayDriver:
    """Connected to the cluster (in the driver process), it calls the demos' deployments."""

    def __init__(self, address: str, timeout_s: float) -> None:
        self.address, self.timeout_s = address, timeout_s
        self._lock = threading.Lock()

    def _handle(self, demo: str) -> Any:
        try:
            with self._lock:
                if ray.is_initialized() and not _reachable(self._head()):
                    ray.shutdown()  # the cluster went away: connect afresh once one answers again
                if not ray.is_initialized():
                    if not _reachable(self.address):
                        raise ConnectionError(f"nothing answers at {self.address}")
                    ray.init(address=self.address, namespace=NAMESPACE, log_to_driver=False, logging_level="ERROR")
            return serve.get_deployment_handle(DEPLOYMENT, app_name=demo)
        except Exception as error:
            raise ModelServerUnavailable(UNREACHABLE) from error

    @staticmethod
    def _head() -> str:
        """The connected cluster's head (its GCS), probed before each call: a dead one answers at once."""
        return ray.get_runtime_context().gcs_address

    def call(self, key: str, demo: str, batch: int, args: tuple, kwargs: dict[str, Any]) -> Any:
        handle = self._handle(demo)
        for attempt in range(RETRIES + 1):
            try:
                return self._send(handle, key, batch, args, kwargs)
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError):
                if attempt == RETRIES:  # a replica died under it: works are pure, so another replica redoes it
                    raise ModelServerUnavailable(LOST) from None
                time.sleep(0.5 * (attempt + 1))
            except (ray.exceptions.RayError, serve.exceptions.RayServeException, TimeoutError) as error:
                raise ModelServerUnavailable(LATE) from error

    def _send(self, handle: Any, key: str, batch: int, args: tuple, kwargs: dict[str, Any]) -> Any:
        if batch:
            responses = [handle.options(method_name="batched").remote((key, item)) for item in args[0]]
            return [_unpack(response.result(timeout_s=self.timeout_s)) for response in responses]
        if kwargs.get("progress") is not None:
            return self._streamed(handle, key, args, kwargs)
        return _unpack(handle.options(method_name="run").remote(key, args, kwargs).result(timeout_s=self.timeout_s))

    @staticmethod
    def _streamed(handle: Any, key: str, args: tuple, kwargs: dict[str, Any]) -> Any:
        progress, sent = kwargs["progress"], {name: value for name, value in kwargs.items() if name != "progress"}
        messages: Iterator[tuple[str, Any]] = handle.options(method_name="run_streaming", stream=True).remote(
            key, args, sent)
        for kind, value in messages:
            if kind == "progress":
                progress(value)
            else:
                return _unpack(value)
        raise ModelServerUnavailable("The model server stopped before it answered; try again.")


def _unpack(outcome: Outcome) -> Any:
    ok, value = outcome
    if not ok:
        raise value
    return value
