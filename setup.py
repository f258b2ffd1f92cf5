"""Install ``sfhead_mm``.

torch is deliberately not pinned to a release: any ``torch>=2.0`` that is
already installed is accepted, so pip never pulls a new (CUDA) torch over a
cluster user's build. Install torch first (``make`` does this for you).
"""
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

from setuptools import find_packages, setup


def installed(dist: str) -> bool:
    """Whether ``dist`` is installed in the target environment.

    pip builds in an isolated environment that hides the target's
    site-packages, so we also ask the target interpreter itself (``-I``
    ignores the PYTHONPATH pip sets for the isolated build).
    """
    try:
        version(dist)
        return True
    except PackageNotFoundError:
        pass
    probe = ('import importlib.metadata as m, sys\n'
             'try: m.version(sys.argv[1])\n'
             'except m.PackageNotFoundError: sys.exit(1)')
    return subprocess.run([sys.executable, '-I', '-c', probe, dist],
                          capture_output=True).returncode == 0


def mmcv_requirement() -> str:
    """Keep a full mmcv 2.0/2.1 a user already has; else mmcv-lite 2.1.0.

    GCN skeleton models need no compiled mmcv ops; mmaction2 1.2.0 refuses
    mmcv >= 2.2.
    """
    if installed('mmcv'):
        return 'mmcv>=2.0.0,<2.2.0'
    if installed('mmcv-lite'):
        return 'mmcv-lite>=2.0.0,<2.2.0'
    return 'mmcv-lite==2.1.0'


install_requires = [
    'torch>=2.0',  # satisfied by the installed torch; never pulls another
    'mmengine==0.10.7',
    'mmaction2==1.2.0',
    mmcv_requirement(),
    'importlib_metadata',  # imported by mmaction2 without declaring it
    # MMEngine's `mmaction::` config lookup imports pkg_resources (gone in
    # setuptools 81); torch 2.13 declares setuptools>=77.0.3.
    'setuptools>=77,<81',
    'numpy',
    'pyyaml',
    'tqdm',
    'matplotlib',
]

if __name__ == '__main__':
    setup(
        name='sfhead_mm',
        version='0.1.0',
        description='SF-Head and FR-Head for skeleton action recognition '
        'in MMAction2',
        long_description=open('README.md', encoding='utf-8').read(),
        long_description_content_type='text/markdown',
        packages=find_packages(include=['sfhead_mm', 'sfhead_mm.*']),
        python_requires='>=3.8',
        install_requires=install_requires,
        extras_require={
            # analysis and deployment tools (ONNX export, t-SNE)
            'tools': ['onnx', 'onnxruntime', 'onnxscript', 'scikit-learn'],
            # pose front end (tools/extract_pose.py): RTMPose / YOLOX on
            # onnxruntime, no mmcv/mmdet/mmpose (rtmlib needs no torch)
            'pose': ['rtmlib>=0.0.13', 'onnxruntime', 'opencv-python'],
            'test': [
                'pytest>=7', 'pytest-xdist', 'openmim==0.3.9', 'onnx',
                'onnxruntime', 'onnxscript', 'scikit-learn', 'rtmlib>=0.0.13'
            ],
        },
    )
