// HOG face detection timed in C++ (bench/dlib_hog/run.sh compiles it with several sets of flags).
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>
#include <algorithm>
using namespace dlib;
int main() {
    long rows, cols; std::ifstream("img.shape") >> rows >> cols;
    std::ifstream raw("img.raw", std::ios::binary);
    std::vector<unsigned char> buf(rows * cols * 3);
    raw.read((char*)buf.data(), buf.size());
    array2d<rgb_pixel> img(rows, cols);
    for (long r = 0; r < rows; ++r) for (long c = 0; c < cols; ++c) {
        auto *p = &buf[(r * cols + c) * 3]; img[r][c] = rgb_pixel(p[0], p[1], p[2]); }
    frontal_face_detector det = get_frontal_face_detector();
    std::vector<double> t_up, t_det;
    for (int i = 0; i < 8; ++i) {
        array2d<rgb_pixel> up;
        auto a = std::chrono::steady_clock::now();
        pyramid_up(img, up, pyramid_down<2>());
        auto b = std::chrono::steady_clock::now();
        auto dets = det(up);
        auto c = std::chrono::steady_clock::now();
        t_up.push_back(std::chrono::duration<double>(b - a).count());
        t_det.push_back(std::chrono::duration<double>(c - b).count());
        if (i == 0) printf("faces %zu\n", dets.size());
    }
    std::sort(t_up.begin(), t_up.end()); std::sort(t_det.begin(), t_det.end());
    printf("pyramid_up %.4f s  detect %.4f s\n", t_up[4], t_det[4]);
}
